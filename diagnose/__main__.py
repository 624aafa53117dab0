from livekit_doctor.launch import main

main()

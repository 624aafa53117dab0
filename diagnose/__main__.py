from livekit_doctor.cli import main

main()

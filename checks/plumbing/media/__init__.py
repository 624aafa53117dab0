"""Media through the rtc SDK: sessions held to a path, tones, speech, media health."""

"""HAR demo: an L2MU recognising human activity from raw accelerometer and gyroscope, on the device."""

"""Tables written for people to open elsewhere: CSV for Excel and .xlsx, bounded and safe."""

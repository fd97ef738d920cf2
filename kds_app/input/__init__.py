"""Keys: the configurable key map (`key_map`) and the bump bar that turns key presses into the taps a finger
makes (`bump_bar`)."""

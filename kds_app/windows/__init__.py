"""The cook's window (`main_window`) and the app that builds one per session and wires it to the engine (`app`)."""

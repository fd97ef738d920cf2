"""Colours, fonts and the alert sound: what every widget draws and plays with. Imports nothing of `kds_app`."""

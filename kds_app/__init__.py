"""The PySide6 kitchen display app."""

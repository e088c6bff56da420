"""The TUI's widgets, one module per widget."""

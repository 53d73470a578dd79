"""The main window's views, one module per navigation slot (see fieldrep.ui.registry)."""

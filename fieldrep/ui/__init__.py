"""The PySide6 desktop workbench: the only package of FieldRep that imports Qt."""

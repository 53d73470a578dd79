"""FieldRep: an offline-first workbench for channel sales reps who visit dealers."""

__version__ = "0.1.0"

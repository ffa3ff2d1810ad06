"""Shared by every test folder: pytest puts this folder on sys.path (it has no __init__.py), so
the helpers beside this file (micromind_reference, synthetic_images) import by name."""

"""Sweeps: train a grid of PhiNets resumably into a SQLite store, locally or on Ray.

The modules follow a sweep's data flow: ``grid`` (which networks), ``recipe`` and ``regime``
(how they are trained, and the run ids derived from it), ``runner`` (the driver), ``executors``
(where runs execute), ``worker`` (one run) and ``store`` (the SQLite table ``advisor.scaling``
reads). Importing this package imports none of them, so it never loads torch or ray.
"""

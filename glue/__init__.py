"""The lake's contract, defined once: columns, partitions, prefixes and the error vocabulary.

Stdlib only: this package ships inside the transform Lambda's zip.
"""

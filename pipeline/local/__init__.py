"""The embedded AWS emulator: moto in server mode plus what moto lacks (real Lambda execution).

Nothing outside this package knows it exists: the product reaches it only through the
standard endpoint variable (`AWS_ENDPOINT_URL`) that `Emulator.export_environment` sets.
"""

"""hedgecore: size hedges of spot crypto holdings with inverse (coin-margined) futures.

The package is pure (no network, disk or clock; time comes in as an argument) except for
`hedgecore.market`, the only code that talks to exchanges, and `hedgecore.cli`, the command line.
"""

"""hedgecore.charts: PNG pictures of payoffs and funding, drawn with matplotlib's Agg backend.

Data comes from `hedgecore.payoff`; nothing here computes hedging figures. Drawing is CPU work:
async callers run it in a worker thread.
"""

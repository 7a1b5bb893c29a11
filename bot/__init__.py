"""bot: the Telegram adapter over hedgecore (parse, ask hedgecore, render, send)."""

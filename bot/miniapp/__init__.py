"""The calculator inside Telegram (a Mini App): its page, and the JSON API the page asks."""

CALCULATOR_PATH = "/app/"  # under the bot's public URL (HEDGEBOT_PUBLIC_URL)

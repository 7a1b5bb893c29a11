"""The calculator inside Telegram (a Mini App): its page, and the JSON API the page asks."""

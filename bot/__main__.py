"""`hedgebot`: runs the Telegram bot."""

import sys


def main() -> int:
    """Run the bot; until the Telegram adapter lands, point to the calculator instead."""
    print(
        "hedgebot: the Telegram bot is not built yet; plan a hedge with the calculator: "
        "hedgecore plan 1.2 BTC --price 60000 --contract-size 1",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())

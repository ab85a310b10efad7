"""The answering core: from a message to a reply.

Text preparation, the knowledge loader, red flags, subjects, matching and the replies, with
`engine.Engine` as the one entry point. No Telegram and no I/O beyond reading the knowledge
folder: the channels (bot/telegram, bot/console.py) and the maintainer tools use it.
"""

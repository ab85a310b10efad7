"""The Telegram channel: the application and its wiring (app), the user handlers
(handlers) and the maintainers' commands (admin). Everything python-telegram-bot lives here.
"""

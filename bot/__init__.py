"""A Telegram FAQ bot on remedial massage for back pain, drawn from one 2012 article."""

__version__ = "0.1.0"

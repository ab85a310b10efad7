"""Maintainer tools, run from the command line: knowledge lint (leave-one-out), evaluation on
labelled sets, the report of unanswered questions, and benchmarks. They never import Telegram.
"""

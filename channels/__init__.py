"""The channel gateway: SMS, WeChat and a JSON API in front of the Rasa bot.

Entry points: `channels.app.create_app(settings)` and `python -m channels`.
"""

"""SMS: a provider interface (`provider.py`), Twilio (`twilio.py`), the reply splitter
(`splitter.py`), STOP/START/HELP keywords (`keywords.py`) and the webhook (`routes.py`)."""

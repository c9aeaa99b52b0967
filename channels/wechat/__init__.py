"""WeChat Official Account: safe XML (`xmlsafe.py`), customer-service API (`cs_api.py`),
and the webhook (`routes.py`)."""

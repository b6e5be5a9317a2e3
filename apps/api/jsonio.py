"""JSON out: ISO 8601 dates and times (Flask's default is the HTTP date format)."""
import datetime
import decimal

from flask.json.provider import DefaultJSONProvider


class IsoJSONProvider(DefaultJSONProvider):
    """Serialize datetimes with their offset, dates as YYYY-MM-DD, decimals as numbers."""

    sort_keys = False

    @staticmethod
    def default(value):
        if isinstance(value, (datetime.datetime, datetime.date)):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return DefaultJSONProvider.default(value)

"""JSON out: ISO 8601 dates and times (Flask's default is the HTTP date format); JSON in: never a crash."""
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

    def loads(self, s, **kwargs):
        """Parse JSON; a document nested too deeply for the parser is malformed input (400), not a crash."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None

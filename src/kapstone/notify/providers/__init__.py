"""The ways a notification leaves Kapstone: e-mail (Django's mail API, an ESP through
django-anymail) and text messages (an :class:`~kapstone.notify.providers.sms.SmsProvider`)."""

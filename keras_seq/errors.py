"""The one exception type for mistakes a user can fix."""


class UserError(ValueError):
    """A mistake in what the user asked for: a bad name, value, file or data.

    The command line prints its message as one line on stderr and exits with
    status 2, without a traceback. The message says what was received and
    what is allowed.
    """

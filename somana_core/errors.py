"""The one error type for input a person typed: it names the field, the value and what is allowed."""


class InputError(ValueError):
    """Bad input from a person (command line, form, spec). `field` names what to fix.

    The command line turns it into a one-line message and exit status 2; a dashboard shows it
    next to the control named by `field`.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(message)

    def __reduce__(self):
        # Survive the trip back from a worker process: default pickling calls cls(*args) with the
        # message alone. Rebuilt without __init__, so subclasses with other signatures work too.
        return _rebuild, (type(self), self.args, dict(self.__dict__))


def _rebuild(cls, args, state):
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error

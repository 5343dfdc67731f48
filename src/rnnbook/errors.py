"""The package's own exception, in a module without torch so that the numpy-only code can raise it too."""


class DivergenceError(RuntimeError):
    """The loss became NaN or inf, or stayed far above where it started (``rnnbook.train.DivergenceWatch``)."""

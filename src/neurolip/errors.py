"""Exceptions that name the file, the subject and the problem."""


class NeuroLIPInputError(ValueError):
    """Bad input: the message names the file and/or subject and what is wrong."""

    def __init__(self, problem, *, path=None, subject=None):
        self.problem = problem
        self.path = None if path is None else str(path)
        self.subject = None if subject is None else str(subject)
        where = []
        if self.path is not None:
            where.append(f"file {self.path}")
        if self.subject is not None:
            where.append(f"subject {self.subject}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + problem)

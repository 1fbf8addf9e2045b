"""URL converters: a path part that cannot be a serial is a 404, never a database error."""


class SerialConverter:
    # Certificate serials (oversight.certificates.new_serial) are ASCII letters, digits
    # and hyphens; anything else (NUL, other scripts, 1 MB) cannot match one.
    regex = "[A-Za-z0-9-]{1,40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value

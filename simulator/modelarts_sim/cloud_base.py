"""What every part of the simulated ModelArts shares: the API error and its common refusals,
times in milliseconds, and the facts both the pool records and their validation read."""

SCOPES = ("Train", "Infer", "Notebook")
BUSY_DRIVER_PHASES = ("Pending", "Updating")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message):
    return ApiError(400, "ModelArts.50004000", message)


def pool_not_found(name):
    return ApiError(404, "ModelArts.50015001", "Pool %s not found." % name)


def ms(epoch):
    return int(epoch * 1000)


def is_count(value):
    return isinstance(value, int) and not isinstance(value, bool)

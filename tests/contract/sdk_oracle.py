"""The vendor SDK (huaweicloudsdkmodelarts) as a test oracle for docs/api-contract.yml.

Reads what the SDK itself declares: each operation's method and resource_path (from the client's
``_<op>_http_info``), each model's ``attribute_map`` (wire names) and ``openapi_types`` (nested
models), and which constructor arguments are required (the generated ``__init__`` assigns those
unconditionally). Imported once per test session: the SDK import costs ~0.8 s.
"""
import functools
import importlib
import inspect
import re

import yaml

# service (a contract entry's `service`, default modelarts) -> the vendor SDK package and client
SERVICES = {"modelarts": ("huaweicloudsdkmodelarts.v1", "ModelArtsClient"),
            "evs": ("huaweicloudsdkevs.v2", "EvsClient"),
            "ims": ("huaweicloudsdkims.v2", "ImsClient")}

CONTRACT_TOKEN = re.compile(r'\["([^"]+)"\]|(\[\])|([^.\[\]]+)')
HTTP_INFO = re.compile(
    r'def _(\w+)_http_info\(cls, request\):\s+http_info = \{\s+"method": "(\w+)",\s+'
    r'"resource_path": "([^"]+)",\s+"request_type": [^,]+,\s+"response_type": "(\w+)"')
LIST_OR_DICT = re.compile(r"^(?:list\[(.+)\]|dict\(str, (.+)\))$")


def camel(op):
    return "".join(part.capitalize() for part in op.split("_"))


@functools.lru_cache(maxsize=None)
def package(service="modelarts"):
    return importlib.import_module(SERVICES[service][0])


@functools.lru_cache(maxsize=None)
def operations(service="modelarts"):
    """{op name: {"method", "path", "request", "response", "query"}} for every SDK operation."""
    source = inspect.getsource(inspect.getmodule(getattr(package(service), SERVICES[service][1])))
    ops = {}
    for name, method, path, response in HTTP_INFO.findall(source):
        start = source.index("def _%s_http_info(" % name)
        end = source.index("return http_info", start)
        query = set(re.findall(r"query_params\.append\(\('([^']+)'", source[start:end]))
        declared = re.search(r"def %s\(self, request\):.*?:type request: :class:`[\w.]+\.(\w+)`" % name,
                             source, re.S)
        ops[name] = {"method": method, "path": path, "response": response, "query": query,
                     "request": declared.group(1) if declared else camel(name) + "Request"}
    return ops


def path_regex(template):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


@functools.lru_cache(maxsize=None)
def _op_regexes(service="modelarts"):
    return [(name, op["method"], path_regex(op["path"])) for name, op in operations(service).items()]


def match_operation(method, path, service="modelarts"):
    """The SDK operation serving ``method path`` (a concrete path), or None. The most specific wins
    (``dev-servers/sync`` before ``dev-servers/{id}``)."""
    found = [(name, rx.pattern.count("[^/]+")) for name, m, rx in _op_regexes(service)
             if m == method and rx.match(path)]
    return min(found, key=lambda item: item[1])[0] if found else None


def model(name, service="modelarts"):
    return getattr(package(service), name, None)


@functools.lru_cache(maxsize=None)
def required_fields(name, service="modelarts"):
    """Wire names of the attributes the generated constructor assigns unconditionally."""
    cls = model(name, service)
    init = inspect.getsource(cls.__init__)
    return {cls.attribute_map[attr] for attr in cls.attribute_map
            if re.search(r"^\s{8}self\.%s = %s$" % (attr, attr), init, re.M)}


def wire_types(name, service="modelarts"):
    """{wire name: openapi type} of a model."""
    cls = model(name, service)
    return {cls.attribute_map[attr]: cls.openapi_types[attr] for attr in cls.attribute_map}


def body_model(op, service="modelarts"):
    request = model(operations(service)[op]["request"], service)
    return request.openapi_types.get("body") if request is not None else None


def tokens(dotted):
    """``a.b[].c`` / ``metadata.labels["os.modelarts/name"]`` -> ["a", "b", "[]", "c"]."""
    out = []
    for quoted, brackets, plain in CONTRACT_TOKEN.findall(dotted):
        out.append(quoted or brackets or plain)
    return out


def _step(type_name, token, service="modelarts"):
    """The type reached from ``type_name`` by ``token``; "any" when the SDK declares a free-form
    map or object; None when the SDK does not know the field."""
    if type_name in (None, "object", "any") or type_name.startswith("dict(str, object"):
        return "any"
    inner = LIST_OR_DICT.match(type_name)
    if inner:
        if inner.group(1):
            return inner.group(1) if token == "[]" else None
        return inner.group(2)  # a map: any key
    if token == "[]":
        return None
    if model(type_name, service) is None:
        return None  # a scalar has no fields
    return wire_types(type_name, service).get(token)


def resolve(type_name, dotted, service="modelarts"):
    """True when the SDK model ``type_name`` declares the path ``dotted``."""
    current = type_name
    for token in tokens(dotted):
        current = _step(current, token, service)
        if current is None:
            return False
    return True


def walk_body(type_name, data, where="", service="modelarts"):
    """Yield (path, problem) for every key of ``data`` the SDK model does not declare and every
    required field missing. Paths use the contract's notation."""
    if current_is_any(type_name):
        return
    inner = LIST_OR_DICT.match(type_name)
    if inner:
        if inner.group(1) and isinstance(data, list):
            for item in data:
                yield from walk_body(inner.group(1), item, where + "[]", service)
        elif inner.group(2) and isinstance(data, dict):
            for value in data.values():
                yield from walk_body(inner.group(2), value, where + "[*]", service)
        return
    if model(type_name, service) is None or not isinstance(data, dict):
        return
    known = wire_types(type_name, service)
    for key, value in data.items():
        path = _join(where, key)
        if key not in known:
            yield path, "unknown to %s" % type_name
        else:
            yield from walk_body(known[key], value, path, service)
    for key in sorted(required_fields(type_name, service) - set(data)):
        yield _join(where, key), "required by %s but not sent" % type_name


def current_is_any(type_name):
    return type_name in (None, "object", "any") or type_name.startswith("dict(str, object")


def _join(where, key):
    if "." in key or "/" in key:
        return '%s["%s"]' % (where, key)
    return "%s.%s" % (where, key) if where else key


def load_contract(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)

# Written by `callerid-mock env`, imported by Python at start-up through PYTHONPATH.
#
# Most Python HTTP clients read HTTPS_PROXY and REQUESTS_CA_BUNDLE / SSL_CERT_FILE by
# themselves. One path does not: requests' Session.send() (which some SDKs call directly)
# ignores the environment that Session.request() merges in. This makes send() merge it too,
# when the caller gave no proxies or CA of its own. requests is patched when it is first
# imported, so programs that never import it pay nothing.
import importlib.abc
import importlib.util
import sys


def _patch(sessions):
    original = sessions.Session.send

    def send(self, request, **kwargs):
        if self.trust_env and not kwargs.get("proxies"):
            merged = self.merge_environment_settings(request.url, {}, None, kwargs.get("verify"), None)
            kwargs["proxies"] = merged["proxies"]
            if kwargs.get("verify") in (None, True) and self.verify is True:
                kwargs["verify"] = merged["verify"]
        return original(self, request, **kwargs)

    sessions.Session.send = send


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "requests.sessions":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            exec_module = spec.loader.exec_module

            def patched(module):
                exec_module(module)
                _patch(module)

            spec.loader.exec_module = patched
        return spec


if __name__ == "sitecustomize":  # imported at start-up; the pytest plugin only borrows _patch
    sys.meta_path.insert(0, _Hook())

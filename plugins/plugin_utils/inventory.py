# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""What the collection's inventory plugins share: the config file name, the cloud client, the cache
and how a host joins its groups. Each plugin adds what its records are (fetch, filters, hostvars).

Controller-side code (it extends Ansible's inventory base classes), hence plugin_utils and not
module_utils; the pure selection rules stay in module_utils/hosts.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import auth_spec
from ansible_collections.modelarts.lite.plugins.module_utils.errors import LiteError


class LiteInventory(BaseInventoryPlugin, Constructable, Cacheable):
    """Subclasses set NAME and ALL_GROUP and define ``fetch(cloud)`` (the API listing, what is cached)
    and ``hosts(listing)``: (host name, hostvars, [built-in group names], {extra host variables})."""

    NAME = None
    ALL_GROUP = None
    # Client options beyond the credentials (auth_spec), for a plugin that also calls a neighbouring service.
    EXTRA_CLIENT_OPTIONS = ()

    @property
    def short_name(self):
        return self.NAME.rsplit(".", 1)[-1]

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("%s.yml" % self.short_name, "%s.yaml" % self.short_name))

    def fail(self, message):
        raise AnsibleError("%s: %s" % (self.NAME, message))

    def _call_cloud(self):
        # Imported here: requests is needed only once the inventory actually talks to the cloud.
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud import client
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud.options import client_options

        if client.REQUESTS_IMPORT_ERROR is not None:
            raise AnsibleError("the %s inventory needs the Python library requests" % self.NAME)
        cloud = None
        try:
            names = tuple(auth_spec()) + self.EXTRA_CLIENT_OPTIONS
            cloud = client.CloudClient(**client_options({name: self.get_option(name) for name in names}))
            return self.fetch(cloud)
        except LiteError as err:
            raise AnsibleError("%s: %s" % (self.NAME, err)) from None
        finally:
            if cloud is not None:
                cloud.close()

    def fetch(self, cloud):
        raise NotImplementedError

    def hosts(self, listing):
        raise NotImplementedError

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        listing = None
        if use_cache:
            try:
                listing = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if listing is None:
            listing = self._call_cloud()
        if update_cache:
            self._cache[cache_key] = listing
        self.inventory.add_group(self.ALL_GROUP)
        for name, hostvars, groups, extra in self.hosts(listing):
            self._add_host(name, hostvars, groups, extra)

    def _add_host(self, name, hostvars, groups, extra):
        strict = self.get_option("strict")
        self.inventory.add_host(name, group=self.ALL_GROUP)
        for key, value in dict(hostvars, **extra).items():
            self.inventory.set_variable(name, key, value)
        for group in groups:
            self.inventory.add_child(self.inventory.add_group(self._sanitize_group_name(group)), name)
        self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)

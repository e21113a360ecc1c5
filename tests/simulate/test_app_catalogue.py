"""The simulator's app catalogue is data (``falco_lab/simulate/data/apps.yaml``), checked on load."""

from __future__ import annotations

import pytest

from falco_lab.simulate.catalogue import APPS_FILE, CatalogueError, load_apps, parse_apps, scaled_replicas

GOOD = """\
apps:
  - name: web
    namespace: shop
    image: "{registry}/web:1.0"
    command: [nginx]
    replicas: scale
    host_paths:
      - {host: /var/log, mount: /var/log, type: ""}
"""


def test_the_packaged_catalogue_loads_with_node_agents_and_services() -> None:
    apps = load_apps(region="eu-west-1", nodes=3)
    assert {a.name for a in apps if a.per_node} >= {"aws-node", "kube-proxy"}
    assert {a.role for a in apps} >= {"web", "api", "db", "cache"}
    assert APPS_FILE.name == "apps.yaml" and APPS_FILE.is_file()


def test_image_placeholders_become_the_regions_registries() -> None:
    (app,) = parse_apps(GOOD, region="us-east-2", nodes=2)
    assert app.image == "123456789012.dkr.ecr.us-east-2.amazonaws.com/web:1.0"


def test_replicas_scale_follows_the_node_count() -> None:
    assert [parse_apps(GOOD, region="r", nodes=n)[0].replicas for n in (1, 4, 10)] == [2, 2, 5]
    assert scaled_replicas(10) == 5


def test_host_paths_become_triples() -> None:
    assert parse_apps(GOOD, region="r", nodes=1)[0].host_paths == (("/var/log", "/var/log", ""),)


def test_an_unknown_key_names_file_line_and_key() -> None:
    text = GOOD + "    replicaz: 3\n"
    with pytest.raises(CatalogueError, match=r"^apps\.yaml:9: unknown key 'replicaz'"):
        parse_apps(text, path="apps.yaml", region="r", nodes=1)


def test_a_missing_required_key_names_the_apps_line() -> None:
    text = "apps:\n  - name: a\n    namespace: b\n    command: [x]\n"
    with pytest.raises(CatalogueError, match=r"^c\.yaml:2: missing required key\(s\) image"):
        parse_apps(text, path="c.yaml", region="r", nodes=1)


def test_an_unknown_image_placeholder_is_an_error_on_the_image_line() -> None:
    text = GOOD.replace("{registry}", "{registri}")
    with pytest.raises(CatalogueError, match=r":4: image uses unknown placeholder\(s\) registri"):
        parse_apps(text, region="r", nodes=1)


def test_wrong_replicas_is_an_error() -> None:
    with pytest.raises(CatalogueError, match=r":6: replicas must be a positive integer or 'scale', not 0"):
        parse_apps(GOOD.replace("replicas: scale", "replicas: 0"), region="r", nodes=1)


def test_a_duplicate_app_names_the_first_definition() -> None:
    second = GOOD.split("apps:\n", 1)[1]
    with pytest.raises(CatalogueError, match=r":9: app shop/web is already defined at line 2"):
        parse_apps(GOOD + second, region="r", nodes=1)


def test_bad_yaml_names_the_line() -> None:
    with pytest.raises(CatalogueError, match=r"^x:4: not valid YAML: expected .,. or .\]."):
        parse_apps("apps:\n  - name: a\n    image: [x\n  - b: c\n", path="x", region="r", nodes=1)


def test_a_catalogue_without_an_apps_list_is_an_error() -> None:
    with pytest.raises(CatalogueError, match=r"expected a mapping with an 'apps' list"):
        parse_apps("applications: []\n", region="r", nodes=1)

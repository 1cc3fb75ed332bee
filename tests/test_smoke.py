def test_version(run):
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("msp ")


def test_empty_listing_is_an_empty_json_array(run):
    result = run("customers", "list", "--format", "json")
    assert result.exit_code == 0, result
    assert result.stdout.strip() == "[]"

"""Drop-in clients: code written for DataRobot's `datarobot` and Deepchecks'
`deepchecks_client` runs against scenarist with one import changed.

    import scenarist.compat.datarobot as dr               # was: import datarobot as dr
    from scenarist.compat.deepchecks import DeepchecksClient   # was: from deepchecks_client …

Both work in process on a store (`SCENARIST_STORE_URL` or the default) or over HTTP against a
`scenarist serve` (an `http(s)://` endpoint/host, with an API key as token). They use only the
public API and httpx; see each module's docstring for what is mirrored and what raises
`NotSupported` (a NotImplementedError naming scenarist's equivalent).
"""

"""The course as a static website: `make site` (website/build.py), configured by website/conf.py."""

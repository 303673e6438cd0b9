#!/bin/sh
echo "coverage tools are not available in soccr's offline build" >&2
exit 1

#!/usr/bin/env bash
echo "make run: not built yet" >&2
exit 1

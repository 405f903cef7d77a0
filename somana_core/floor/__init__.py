"""The floor as its own service: stations own the printers and talk over an MQTT bus.

`bus` (topics, payloads, the paho client), `station` (a process owning printers), `fleet` (every
printer of every station, for /machines and the command line), `local` (a private Mosquitto),
`eta` (time left from the slicer's estimate and the actual pace).
"""

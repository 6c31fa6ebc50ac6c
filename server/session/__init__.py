"""One websocket conversation: protocol dispatch, the microphone (barge-in) and the scheduling of its turns."""

"""What a chat turn leaves behind while it streams: a replay buffer for resuming clients."""

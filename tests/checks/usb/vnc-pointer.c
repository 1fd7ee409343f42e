/*
 * vnc-pointer.c - move a VNC server's pointer to three places and click, through LibVNCClient
 * (Debian libvncserver-dev): the stage5-usb check's "VNC -> USB tablet" run, in the nested
 * host's L1 (tests/nested/run-nested brings the library along).
 *
 *   vnc-pointer HOST:DISPLAY   connect, read the framebuffer's size W x H, move the pointer to
 *                              the top right corner (W-1, 0), the bottom left (0, H-1) and
 *                              (W/4, H/3), press and release button 1 there; one line each:
 *                              "vnc-pointer: move X Y of W H" (the check computes what the
 *                              guest's tablet must report from these), then exit 0
 *
 * Teaches nothing of its own: the protocol is the library's, so the check drives the VMM's
 * VNC server with a client nobody here wrote. Before it exits it asks for one framebuffer
 * update and waits for the answer: the server handles a client's messages in order, so the
 * pointer events have reached the VMM by then.
 */
#include <rfb/rfbclient.h>
#include <stdio.h>

static void quiet(const char *format, ...)
{
	(void)format;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: vnc-pointer HOST:DISPLAY\n");
		return 2;
	}
	rfbClientLog = quiet;   /* its chatter would interleave with the guest's console */
	rfbClient *cl = rfbGetClient(8, 3, 4);
	char *args[] = { argv[0], argv[1], NULL };
	int nargs = 2;
	if (!cl || !rfbInitClient(cl, &nargs, args)) {   /* frees cl when it fails */
		fprintf(stderr, "vnc-pointer: cannot connect to %s\n", argv[1]);
		return 1;
	}
	int w = cl->width, h = cl->height;
	const int at[3][2] = { { w - 1, 0 }, { 0, h - 1 }, { w / 4, h / 3 } };
	for (int i = 0; i < 3; i++) {
		if (!SendPointerEvent(cl, at[i][0], at[i][1], 0))
			return 1;
		printf("vnc-pointer: move %d %d of %d %d\n", at[i][0], at[i][1], w, h);
	}
	if (!SendPointerEvent(cl, at[2][0], at[2][1], rfbButton1Mask) ||
	    !SendPointerEvent(cl, at[2][0], at[2][1], 0))
		return 1;
	printf("vnc-pointer: click\n");
	/* A round trip: the update comes after the server has read the pointer events. */
	if (!SendFramebufferUpdateRequest(cl, 0, 0, 1, 1, FALSE))
		return 1;
	int n = WaitForMessage(cl, 10000000);   /* 10 s: a bound, not a synchronisation */
	if (n <= 0 || !HandleRFBServerMessage(cl)) {
		fprintf(stderr, "vnc-pointer: no answer from the server\n");
		return 1;
	}
	rfbClientCleanup(cl);
	printf("vnc-pointer: done\n");
	return 0;
}

/*
 * Keypad out, the part common to both backends: the check that a code is
 * one the keymap declares, then the backend's press.
 */
#include "keypad_out_impl.h"

#include <errno.h>
#include <string.h>

void keypad_out_base_init(struct keypad_out *k, const struct keypad_out_ops *ops, const struct keymap *km)
{
	k->ops = ops;
	memset(k->declared, 0, sizeof(k->declared));
	for (size_t i = 0; i < km->n; i++)
		if (km->e[i].code < KEY_MAX)
			k->declared[km->e[i].code / 8] |= (uint8_t)(1u << (km->e[i].code % 8));
}

bool keypad_out_declares(const struct keypad_out *k, unsigned code)
{
	return code < KEY_MAX && (k->declared[code / 8] & (1u << (code % 8)));
}

int keypad_out_press(struct keypad_out *k, unsigned code)
{
	/*
	 * The uinput device declares only the keymap's codes and the kernel
	 * silently drops events for undeclared ones.  Refusing them here, in
	 * both backends, makes the sim record what the kernel would really
	 * deliver and turns a silent drop into an error the caller sees.
	 */
	if (!keypad_out_declares(k, code))
		return -EINVAL;
	return k->ops->press(k, code);
}

void keypad_out_close(struct keypad_out *k)
{
	if (k)
		k->ops->close(k);
}

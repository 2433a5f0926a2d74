/* placeholder */
int aurid_placeholder_hal(void);
int aurid_placeholder_hal(void)
{
	return 0;
}

/* placeholder */
int aurid_placeholder_supervisor(void);
int aurid_placeholder_supervisor(void)
{
	return 0;
}

echo "startup.nsh: booting Linux through its EFI stub"
fs0:
\vmlinuz.efi initrd=\initrd.gz console=ttyS0 panic=-1 mv.test=/uefi-test.sh

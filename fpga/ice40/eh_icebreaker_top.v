// iCEBreaker (iCE40 UP5K) top of the edgehost SoC: 12 MHz clock, the SoC with its custom unit,
// 128 KiB of RAM in the four SPRAMs at 0x8000_0000, the UART boot ROM (fpga/boot/boot.S) in
// BRAM at 0x0000_0000 (the reset vector), the UART on the FTDI's second channel (115200 8N1),
// LEDs: green = running, red = CPU trap.
`default_nettype none
module eh_icebreaker_top (
    input  wire CLK,
    input  wire RX,
    output wire TX,
    output wire LEDR_N,
    output wire LEDG_N
);
    parameter BOOTROM_HEX = "boot.hex";
    parameter integer CLKS_PER_BIT = 104;    // 12 MHz / 115200 (tests simulate a faster line)
    localparam integer RAM_ADDR_BITS = 17;   // 128 KiB

    reg [5:0] por = 0;
    wire resetn = &por;
    always @(posedge CLK) if (!resetn) por <= por + 1;

    wire        ram_en;
    wire [3:0]  ram_we;
    wire [RAM_ADDR_BITS-3:0] ram_addr;   // 15 bits: bank (1) + 14-bit SPRAM address
    wire [31:0] ram_wdata;
    wire [31:0] ram_rdata;
    wire        tx_valid, tx_ready, tx_busy, rx_valid, rx_ready, trap, exit_valid;
    wire [7:0]  tx_data, rx_data;
    wire [15:0] exit_code;

    // SMALL to fit the UP5K's 5280 logic cells (see eh_soc.v)
    eh_soc #(.RAM_ADDR_BITS(RAM_ADDR_BITS), .WITH_CFU(1), .FAST_MUL(1), .WITH_DIV(1), .SMALL(1),
             .BOOTROM_WORDS(256), .BOOTROM_HEX(BOOTROM_HEX), .RESET_ADDR(32'h0000_0000)) soc (
        .clk(CLK), .resetn(resetn), .cfu_enable(1'b1),
        .ram_en(ram_en), .ram_we(ram_we), .ram_addr(ram_addr), .ram_wdata(ram_wdata),
        .ram_rdata(ram_rdata),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready), .tx_busy(tx_busy),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready), .uart_divisor(),
        .exit_valid(exit_valid), .exit_code(exit_code), .trap(trap)
    );

    eh_uart_phy #(.CLKS_PER_BIT(CLKS_PER_BIT)) phy (
        .clk(CLK), .resetn(resetn), .txd(TX), .rxd(RX),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready), .tx_busy(tx_busy),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready)
    );

    // RAM: two banks of two 16-bit SPRAMs (low and high half-words)
    wire bank = ram_addr[14];
    reg  bank_q;
    wire [31:0] q0, q1;
    always @(posedge CLK) if (ram_en) bank_q <= bank;
    assign ram_rdata = bank_q ? q1 : q0;
    genvar b, h;
    generate for (b = 0; b < 2; b = b + 1) begin : g_bank
        for (h = 0; h < 2; h = h + 1) begin : g_half
            wire [15:0] dout;
            SB_SPRAM256KA spram (
                .ADDRESS(ram_addr[13:0]), .DATAIN(ram_wdata[16*h +: 16]),
                .MASKWREN({ram_we[2*h+1], ram_we[2*h+1], ram_we[2*h], ram_we[2*h]}),
                .WREN(ram_en && bank == b && |ram_we), .CHIPSELECT(ram_en && bank == b),
                .CLOCK(CLK), .STANDBY(1'b0), .SLEEP(1'b0), .POWEROFF(1'b1), .DATAOUT(dout)
            );
            if (b == 0) begin : g0 assign q0[16*h +: 16] = dout; end
            else begin : g1 assign q1[16*h +: 16] = dout; end
        end
    end endgenerate

    reg trapped = 0;
    always @(posedge CLK) if (trap) trapped <= 1'b1;
    assign LEDR_N = !trapped;
    assign LEDG_N = trapped;
    // verilator lint_off UNUSED
    wire unused = &{1'b0, exit_valid, exit_code};
    // verilator lint_on UNUSED
endmodule
`default_nettype wire
